// Drive Audiobookshelf's own parsing code (from its source tree, not vendored: it is GPL-3.0) on a
// talkingbook library, and print what it reads as JSON. bench_audiobookshelf.py runs it and compares.
//
// Usage: node audiobookshelf.js ABS_SOURCE JOB.json
//   JOB: {"library": DIR, "audio": [paths], "epubs": [paths], "feeds": {name: saved feed path}}
// Needs, in ABS_SOURCE: `npm ci --omit=dev --ignore-scripts` (xml2js, axios, sequelize... that these
// modules require at load; nothing is run from them), and ffprobe on the PATH (Audiobookshelf runs it).
//
// What is driven, as Audiobookshelf 2.36 uses it:
// - scanning a library folder: utils/fileUtils.recurseFiles + utils/scandir.groupFileItemsIntoLibraryItemDirs
//   (which folders become books, with which files);
// - an audio file: utils/prober.probe (ffprobe -> MediaProbeData: tags, chapters, duration), then
//   scanner/AudioFileScanner.setBookMetadataFromAudioMetaTags (tags -> the book's title, authors,
//   narrators, publisher, language, description, year, genres, chapters);
// - an EPUB: utils/parsers/parseEpubMetadata.parse (its OPF through parseOpfMetadata);
// - a podcast feed: utils/podcastUtils.parsePodcastRssFeedXml (what "add podcast by RSS" reads).
"use strict";
const fs = require("fs");
const path = require("path");

const [absRoot, jobPath] = process.argv.slice(2);
const job = JSON.parse(fs.readFileSync(jobPath, "utf8"));
const abs = (module) => require(path.join(path.resolve(absRoot), "server", module));

// Audiobookshelf's Logger prints debug lines on stdout; keep stdout for the JSON
const Logger = abs("Logger");
for (const level of ["debug", "info", "warn", "error", "fatal", "trace", "note"]) {
  if (typeof Logger[level] === "function") Logger[level] = (...args) => process.stderr.write(`[abs ${level}] ${args.join(" ")}\n`);
}

const fileUtils = abs("utils/fileUtils");
const scandir = abs("utils/scandir");
const prober = abs("utils/prober");
const AudioFileScanner = abs("scanner/AudioFileScanner");
const parseEpubMetadata = abs("utils/parsers/parseEpubMetadata");
const podcastUtils = abs("utils/podcastUtils");

const scanLog = { addLog() {} }; // a LibraryScan's log, unused here

async function scanLibrary(folder) {
  const items = await fileUtils.recurseFiles(folder);
  return scandir.groupFileItemsIntoLibraryItemDirs("book", items, false);
}

async function readAudio(file) {
  const probed = await prober.probe(file);
  if (probed.error) return { error: String(probed.error) };
  const audioFile = {
    metaTags: probed.audioMetaTags,
    chapters: probed.chapters,
    duration: probed.duration,
    metadata: { filename: path.basename(file), path: file },
  };
  const book = {};
  AudioFileScanner.setBookMetadataFromAudioMetaTags(path.basename(file), [audioFile], book, scanLog);
  return { tags: probed.audioMetaTags.toJSON(), duration: probed.duration, book };
}

async function readEpub(file) {
  const parsed = await parseEpubMetadata.parse({ metadata: { path: file } });
  return parsed ? { book: parsed.metadata, cover: parsed.ebookCoverPath || null } : { error: "no metadata" };
}

async function readFeed(file) {
  const parsed = await podcastUtils.parsePodcastRssFeedXml(fs.readFileSync(file, "utf8"));
  return parsed ? parsed.podcast : { error: "not a podcast feed" };
}

async function main() {
  const out = { scan: await scanLibrary(job.library), audio: {}, epubs: {}, feeds: {} };
  // durations of every audio file the scan groups into a book: Audiobookshelf plays them all as the book
  out.scanDurations = {};
  for (const [item, files] of Object.entries(out.scan)) {
    for (const name of files) {
      if (!/\.(mp3|m4b|m4a|aac|ogg|opus|flac|wav)$/i.test(name)) continue;
      const probed = await prober.probe(path.join(job.library, item, name));
      out.scanDurations[path.posix.join(item, name)] = probed.error ? null : probed.duration;
    }
  }
  for (const file of job.audio) out.audio[file] = await readAudio(file);
  for (const file of job.epubs) out.epubs[file] = await readEpub(file);
  for (const [name, file] of Object.entries(job.feeds)) out.feeds[name] = await readFeed(file);
  process.stdout.write(JSON.stringify(out, null, 1) + "\n");
}

main().catch((error) => {
  process.stderr.write(String((error && error.stack) || error) + "\n");
  process.exit(1);
});
