// Open an EPUB with Readium's parser (r2-shared-js, the engine under the Thorium reader) and print
// what a reading system sees: the table of contents, accessibility metadata and media overlays.
// Usage: node readium.js BOOK.epub  -> JSON on stdout
"use strict";
require("r2-shared-js/dist/es8-es2017/src/init-globals").initGlobalConverters_SHARED();
require("r2-shared-js/dist/es8-es2017/src/init-globals").initGlobalConverters_GENERIC();
const { EpubParsePromise, getMediaOverlay } = require("r2-shared-js/dist/es8-es2017/src/parser/epub");

function toc(links) {
  return (links || []).map((l) => ({ title: l.Title, href: l.Href, children: toc(l.Children) }));
}

function clips(node, out) {
  if (node.Audio) {
    out.push({ text: node.Text, audio: node.Audio });
  }
  for (const child of node.Children || []) clips(child, out);
  return out;
}

(async () => {
  const publication = await EpubParsePromise(process.argv[2]);
  const spine = [];
  for (const link of publication.Spine) {
    const entry = { href: link.Href, duration: link.Duration, mediaOverlay: null };
    if (link.MediaOverlays || (link.Properties && link.Properties.MediaOverlay)) {
      const overlay = await getMediaOverlay(publication, link.Href);
      const found = clips(overlay, []);
      entry.mediaOverlay = { smil: overlay.SmilPathInZip, clips: found };
    }
    spine.push(entry);
  }
  const m = publication.Metadata;
  console.log(JSON.stringify({
    title: m.Title,
    language: m.Language,
    duration: m.Duration,
    accessibility: { accessMode: m.AccessMode, feature: m.AccessibilityFeature, conformsTo: m.ConformsTo },
    activeClass: m.MediaOverlay && m.MediaOverlay.ActiveClass,
    toc: toc(publication.TOC),
    spine,
  }, null, 1));
  process.exit(0);
})().catch((err) => { console.error(String(err && err.stack || err)); process.exit(1); });
