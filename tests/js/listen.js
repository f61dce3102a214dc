// Load a listening page in headless Chromium (puppeteer-core, Debian's chromium) and report what a
// keyboard user and the console see, and the text of every captions cue as Chromium parses it.
// Usage: node listen.js PAGE.html SCREENSHOT.png -> JSON on stdout
"use strict";
const puppeteer = require("puppeteer-core");

(async () => {
  const [page, shot] = process.argv.slice(2);
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--allow-file-access-from-files"],
  });
  const tab = await browser.newPage();
  const errors = [];
  tab.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") errors.push(m.text()); });
  tab.on("pageerror", (e) => errors.push(String(e)));
  tab.on("requestfailed", (r) => errors.push(`failed: ${r.url()} ${r.failure() && r.failure().errorText}`));
  await tab.setViewport({ width: 900, height: 1400 });
  await tab.goto("file://" + page, { waitUntil: "load" });
  const audio = await tab.$$eval("audio", (els) => els.map((a) => a.getAttribute("src")));
  const images = await tab.$$eval("img", (els) => els.map((i) => ({ src: i.getAttribute("src"), alt: i.getAttribute("alt"),
                                                                     width: i.naturalWidth, height: i.naturalHeight })));
  const focus = [];
  for (let i = 0; i < 200; i++) {
    await tab.keyboard.press("Tab");
    const seen = await tab.evaluate(() => {
      const el = document.activeElement;
      if (!el || el === document.body) return null;
      const section = el.closest("section");
      return { tag: el.tagName.toLowerCase(), section: section ? section.getAttribute("aria-labelledby") : null,
               text: (el.getAttribute("href") || el.getAttribute("src") || el.textContent || "").trim().slice(0, 80) };
    });
    if (seen === null) break;
    if (focus.length && JSON.stringify(focus[0]) === JSON.stringify(seen)) break;  // wrapped around
    focus.push(seen);
  }
  await tab.screenshot({ path: shot, fullPage: true });
  const title = await tab.title();
  // each <track>'s cues as the page would show them: getCueAsHTML() is the WebVTT cue text parser's
  // result (tags become elements, character references are decoded), its textContent what is read
  const cues = await tab.evaluate(async () => {
    const out = {};
    for (const el of document.querySelectorAll("track")) {
      el.track.mode = "hidden";  // a track loads only once it is not disabled
      if (el.readyState !== 2) {
        await new Promise((resolve) => {
          el.addEventListener("load", resolve, { once: true });
          el.addEventListener("error", resolve, { once: true });
          setTimeout(resolve, 10000);
        });
      }
      out[el.getAttribute("src")] = el.readyState === 2
        ? Array.from(el.track.cues, (c) => ({ text: c.getCueAsHTML().textContent,
                                                elements: c.getCueAsHTML().querySelectorAll("*").length }))
        : null;
    }
    return out;
  });
  await browser.close();
  console.log(JSON.stringify({ title, errors, audio, images, focus, cues }, null, 1));
})().catch((err) => { console.error(String(err && err.stack || err)); process.exit(1); });
