// Read an OPDS catalog feed with Readium's parser (r2-opds-js, the Thorium reader's), as Thorium does:
// OPDS 1 (Atom) through xmldom, r2-utils-js's XML mapper and convertOpds1ToOpds2; OPDS 2 (JSON) through
// TaJsonDeserialize. Prints what a reader sees, in OPDS 2 terms.
// Usage: node opds.js FEED.xml|FEED.json  -> JSON on stdout
"use strict";
const fs = require("fs");
// Readium's classes warn on stdout (console.log, e.g. "OPDSPublication.Image[s] is not set!" for a book
// without a cover): their messages go to stderr, stdout holds only the JSON
const print = console.log;
console.log = console.error;
require("r2-opds-js/dist/es8-es2017/src/opds/init-globals").initGlobalConverters_OPDS();
require("r2-opds-js/dist/es8-es2017/src/opds/init-globals").initGlobalConverters_GENERIC();
const { DOMParser } = require("@xmldom/xmldom");
const { XML } = require("r2-utils-js/dist/es8-es2017/src/_utils/xml-js-mapper");
const { TaJsonDeserialize } = require("r2-lcp-js/dist/es8-es2017/src/serializable");
const { OPDS } = require("r2-opds-js/dist/es8-es2017/src/opds/opds1/opds");
const { OPDSFeed } = require("r2-opds-js/dist/es8-es2017/src/opds/opds2/opds2");
const { convertOpds1ToOpds2 } = require("r2-opds-js/dist/es8-es2017/src/opds/converter");

function links(list) {
  return (list || []).map((l) => ({ rel: l.Rel, href: l.Href, type: l.TypeLink, title: l.Title }));
}

const file = process.argv[2];
const text = fs.readFileSync(file, "utf8");
let feed;
if (file.endsWith(".json")) {
  feed = TaJsonDeserialize(JSON.parse(text), OPDSFeed);
} else {
  const dom = new DOMParser().parseFromString(text, "application/xml");
  feed = convertOpds1ToOpds2(XML.deserialize(dom, OPDS));
}
print(JSON.stringify({
  title: feed.Metadata && feed.Metadata.Title,
  numberOfItems: feed.Metadata && feed.Metadata.NumberOfItems,
  links: links(feed.Links),
  navigation: links(feed.Navigation),
  publications: (feed.Publications || []).map((p) => ({
    title: p.Metadata.Title,
    identifier: p.Metadata.Identifier,
    language: p.Metadata.Language,
    authors: (p.Metadata.Author || []).map((a) => a.Name),
    links: links(p.Links),
    images: links(p.Images),
  })),
}, null, 1));
