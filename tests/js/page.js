// Open a page over HTTP in headless Chromium (puppeteer-core, Debian's chromium): log every response,
// optionally play the first <audio> and seek it, run axe-core on the page, take a screenshot.
// Usage: node page.js URL SCREENSHOT.png [--play] -> JSON on stdout
"use strict";
const path = require("path");
const puppeteer = require("puppeteer-core");

(async () => {
  const [url, shot, ...flags] = process.argv.slice(2);
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--autoplay-policy=no-user-gesture-required"],
  });
  const tab = await browser.newPage();
  const errors = [];
  const responses = [];
  // the favicon Chromium asks every site for is not the page's: a library need not have one
  const favicon = (url) => /\/favicon\.ico$/.test(url || "");
  tab.on("console", (m) => { if (m.type() === "error" && !favicon(m.location().url)) errors.push(m.text()); });
  tab.on("pageerror", (e) => errors.push(String(e)));
  tab.on("requestfailed", (r) => {
    // a media stream Chromium itself stops after a seek is not a failure of the server
    if (!(r.resourceType() === "media" && r.failure() && r.failure().errorText === "net::ERR_ABORTED")) {
      errors.push(`failed: ${r.url()} ${r.failure() && r.failure().errorText}`);
    }
  });
  tab.on("response", (r) => favicon(r.url()) || r.url().startsWith("data:") || responses.push({ url: r.url(), status: r.status(), type: r.request().resourceType(),
                                             range: r.request().headers()["range"] || null,
                                             contentRange: r.headers()["content-range"] || null }));
  await tab.setViewport({ width: 900, height: 1400 });
  const main = await tab.goto(url, { waitUntil: "load" });
  let playback = null;
  if (flags.includes("--play")) {
    playback = await tab.evaluate(async () => {
      const audio = document.querySelector("audio");
      if (!audio) return { error: "no audio element" };
      const once = (name) => new Promise((resolve) => audio.addEventListener(name, resolve, { once: true }));
      audio.muted = true;
      await audio.play();
      if (!(audio.duration > 0)) await once("durationchange");
      const target = audio.duration * 0.75;
      const seeked = once("seeked");
      audio.currentTime = target;
      await seeked;
      await new Promise((resolve) => setTimeout(resolve, 500));  // let it play from there
      return { src: audio.currentSrc, duration: audio.duration, target, currentTime: audio.currentTime,
               paused: audio.paused, error: audio.error && audio.error.message };
    });
  }
  await tab.addScriptTag({ path: path.join(__dirname, "node_modules", "axe-core", "axe.min.js") });
  const axe = await tab.evaluate(async () => {
    const result = await window.axe.run(document);
    return { violations: result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
                                                          nodes: v.nodes.map((n) => n.html.slice(0, 200)) })),
             passes: result.passes.length };
  });
  await tab.screenshot({ path: shot, fullPage: true });
  await browser.close();
  console.log(JSON.stringify({ status: main.status(), errors, responses, playback, axe }, null, 1));
})().catch((err) => { console.error(String(err && err.stack || err)); process.exit(1); });
