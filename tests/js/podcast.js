// Read a podcast feed as two podcast apps' parsers do: podcast-partytime (Podcast Index's parser, used
// by Podverse) and rss-parser (the most used RSS parser on npm). Each reader's view of the channel and
// of every episode is printed in the same shape, with nothing resolved or repaired: a relative URL
// stays relative, a missing field is null, so the test sees what an app would be given.
// Usage: node podcast.js FEED.xml  -> {"partytime": {...}, "rss-parser": {...}} on stdout
"use strict";
const fs = require("fs");
const partytime = require("podcast-partytime");
const Parser = require("rss-parser");

// "212", "3:32" or "0:03:32" as seconds, as apps read itunes:duration; null when absent or unreadable
function seconds(value) {
  if (value === undefined || value === null || value === "") return null;
  if (typeof value === "number") return value;
  const parts = String(value).trim().split(":").map(Number);
  if (parts.some(Number.isNaN)) return null;
  return parts.reduce((total, part) => total * 60 + part, 0);
}

function iso(date) {
  if (!date) return null;
  const parsed = date instanceof Date ? date : new Date(date);
  return Number.isNaN(parsed.getTime()) ? null : parsed.toISOString().replace(/\.\d{3}Z$/, "Z"); // to the second
}

function orNull(value) {
  return value === undefined || value === "" ? null : value;
}

function readPartytime(xml) {
  const feed = partytime.parseFeed(xml, { allowMissingGuid: true });
  if (!feed) throw new Error("podcast-partytime read no feed");
  return {
    channel: {
      title: orNull(feed.title),
      link: orNull(feed.link),
      author: orNull(feed.author),
      image: orNull(feed.itunesImage || (feed.image && feed.image.url)),
      language: orNull(feed.language),
      guid: orNull(feed.guid),
      type: orNull(feed.itunesType),
    },
    episodes: feed.items.map((item) => ({
      title: orNull(item.title),
      url: orNull(item.enclosure && item.enclosure.url),
      type: orNull(item.enclosure && item.enclosure.type),
      length: item.enclosure ? Number(item.enclosure.length) : null,
      duration: seconds(item.duration),
      guid: orNull(item.guid),
      published: iso(item.pubDate),
      image: orNull(item.itunesImage || item.image),
      chapters: orNull(item.podcastChapters && item.podcastChapters.url),
      transcripts: (item.podcastTranscripts || []).map((t) => t.url),
      author: orNull(item.author),
      link: orNull(item.link),
    })),
  };
}

async function readRssParser(xml) {
  const parser = new Parser({
    customFields: {
      feed: ["podcast:guid", "language"],
      item: [
        ["podcast:chapters", "chapters"],
        ["podcast:transcript", "transcripts", { keepArray: true }],
      ],
    },
  });
  const feed = await parser.parseString(xml);
  const attribute = (node, name) => (node && node.$ ? orNull(node.$[name]) : null);
  const itunes = feed.itunes || {};
  return {
    channel: {
      title: orNull(feed.title),
      link: orNull(feed.link),
      author: orNull(itunes.author),
      image: orNull(itunes.image || (feed.image && feed.image.url)),
      language: orNull(feed.language),
      guid: orNull(feed["podcast:guid"]),
      type: null, // rss-parser does not read itunes:type
    },
    episodes: feed.items.map((item) => {
      const tags = item.itunes || {};
      return {
        title: orNull(item.title),
        url: orNull(item.enclosure && item.enclosure.url),
        type: orNull(item.enclosure && item.enclosure.type),
        length: item.enclosure ? Number(item.enclosure.length) : null,
        duration: seconds(tags.duration),
        guid: orNull(item.guid),
        published: iso(item.isoDate || item.pubDate),
        image: orNull(tags.image),
        chapters: attribute(item.chapters, "url"),
        transcripts: (item.transcripts || []).map((t) => attribute(t, "url")),
        author: orNull(tags.author || item.creator || item.author),
        link: orNull(item.link),
      };
    }),
  };
}

async function main() {
  const xml = fs.readFileSync(process.argv[2], "utf8");
  const out = { partytime: readPartytime(xml), "rss-parser": await readRssParser(xml) };
  process.stdout.write(JSON.stringify(out, null, 1) + "\n");
}

main().catch((error) => {
  process.stderr.write(String((error && error.stack) || error) + "\n");
  process.exit(1);
});
