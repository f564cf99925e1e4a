// The playground (playground/), end to end: builds it with Vite into a
// temporary folder, serves the build on 127.0.0.1 and drives it in headless
// Chromium. It compiles the iris example in the page's worker (the .wasm
// offered for download must be WebAssembly), trains it (the plotted batch
// losses must fall, a confusion matrix must appear, the weights must be an nnc
// weights file), takes a screenshot, then breaks a line and expects the
// compiler's diagnostic inline at that line. Screenshots stay in the printed
// temporary folder; NNC_UPDATE_SCREENSHOT=1 also copies the trained page to
// docs/images/playground.png, the README's picture. Without Chromium
// (`apt-get install chromium`) the test fails.

import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { BrowserContext, Page } from "playwright-core";
import { build, type PreviewServer, preview } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../chromium.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const configFile = join(root, "playground/vite.config.ts");
const readmeScreenshot = join(root, "docs/images/playground.png");

/** Clicks a download button; returns the name and the first four bytes of the file saved. */
async function download(page: Page, button: string): Promise<{ name: string; magic: string }> {
  const [saved] = await Promise.all([page.waitForEvent("download"), page.click(button)]);
  const bytes = readFileSync(await saved.path());
  return { name: saved.suggestedFilename(), magic: bytes.subarray(0, 4).toString("latin1") };
}

describe("the playground compiles, trains and reports errors in the browser", () => {
  // screenshots stay here after the run; the built site and the browser profile do not
  const workDir = mkdtempSync(join(tmpdir(), "nnc-playground-"));
  const site = join(workDir, "site");
  const profile = join(workDir, "chromium-profile");
  let server: PreviewServer;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    const started = performance.now();
    await build({ configFile, logLevel: "warn", build: { outDir: site } });
    console.log(`playground built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    server = await preview({ configFile, logLevel: "warn", build: { outDir: site }, preview: { host: "127.0.0.1", port: 0, open: false } });
    context = await launchChromium(profile, { width: 1280, height: 800 });
    page = await context.newPage();
    page.on("pageerror", (error) => pageErrors.push(error.message));
    page.on("console", (message) => message.type() === "error" && pageErrors.push(message.text()));
    await page.goto(server.resolvedUrls?.local[0] ?? "");
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    await server?.close();
    for (const dir of [site, profile]) rmSync(dir, { recursive: true, force: true });
    console.log(`screenshots in ${workDir}`);
  });

  it("compiles iris to a .wasm", async () => {
    await page.selectOption("#example", "iris");
    await page.click("#compile");
    await page.waitForSelector("body[data-state=compiled]", { timeout: 30_000 });
    await expect(page.textContent("#compiled")).resolves.toContain("compiled model iris");
    await expect(download(page, "#download-wasm")).resolves.toEqual({ name: "iris.wasm", magic: "\0asm" });
  });

  it("trains it with a falling loss curve and draws the confusion matrix", async () => {
    await page.click("#train");
    await page.waitForSelector("body[data-state=trained]", { timeout: 30_000 });
    await page.waitForSelector("#confusion svg");
    const losses = JSON.parse((await page.getAttribute("#curves", "data-train-loss")) ?? "[]") as number[];
    expect(losses.length, "points on the loss curve").toBeGreaterThan(10);
    expect(losses.at(-1), "the last plotted loss is below the first").toBeLessThan(losses[0]);
    await expect(page.textContent("#status")).resolves.toMatch(/trained 100 epochs .* accuracy/);
    await expect(download(page, "#download-weights")).resolves.toEqual({ name: "iris.weights", magic: "NNCW" });
    const screenshot = join(workDir, "trained.png");
    await page.screenshot({ path: screenshot });
    if (process.env.NNC_UPDATE_SCREENSHOT === "1") copyFileSync(screenshot, readmeScreenshot);
  });

  it("shows a compile error inline, at its line", async () => {
    const lines = await page.$$eval(".cm-line", (elements) => elements.map((line) => line.textContent ?? ""));
    expect(lines).toContain("  logits = dense(h, 3)");
    const broken = lines.map((line) => line.replace("logits = dense(h, 3)", "logits = dense(hidden, 3)"));
    await page.locator(".cm-content").fill(broken.join("\n"));
    const marked = await page.waitForSelector(".cm-lintRange-error", { timeout: 30_000 });
    expect(await marked.textContent()).toBe("hidden");
    const line = await marked.evaluate((range) => [...document.querySelectorAll(".cm-line")].findIndex((l) => l.contains(range)) + 1);
    expect(line).toBe(broken.findIndex((l) => l.includes("dense(hidden")) + 1);
    await expect(page.textContent("#report")).resolves.toContain(`--> examples/iris.nn:${line}:`);
    await expect(page.textContent("#report")).resolves.toContain("undefined name `hidden`");
    await page.screenshot({ path: join(workDir, "error.png") });
    expect(pageErrors).toEqual([]);
  });
});
