/**
 * Test helper: the sample archive (archive/testing) plus an experiment whose every human- or LLM-written string
 * is an XSS probe — name, motivation, analysis, experience, code, a note — and one steering note carrying one.
 */
import { Archive } from "../../archive/archive.ts";
import { syntheticExperiment } from "../../archive/fixtures.ts";
import { buildSampleArchive, SEED_CODE } from "../../archive/testing/sampleArchive.ts";
import { appendSteering } from "../../steering/journal.ts";

/** Markup that would run script or load something if any page put it in as HTML. */
export const XSS_PROBES = [
  `<script>window.__xss = 1</script>`,
  `"><img src=x onerror="window.__xss=2">`,
  `<svg onload="window.__xss=3"></svg>`,
  `javascript:window.__xss=4`,
  `</pre><iframe src="javascript:window.__xss=5"></iframe>`,
  `{{constructor.constructor('window.__xss=6')()}}`,
];
export const XSS_ID = "e000005";

export async function buildXssArchive(dir: string): Promise<void> {
  await buildSampleArchive(dir);
  const archive = await Archive.open(dir, { mode: "write", warn: () => {} });
  try {
    await archive.insertExperiment(syntheticExperiment(5, "e000002", { id: XSS_ID, name: `x${XSS_PROBES[1]}`, reason: XSS_PROBES[2]! }));
    const code = `${SEED_CODE}# ${XSS_PROBES.join("\n# ")}\nx = "${XSS_PROBES[0]}"\n`;
    const parent = archive.getExperiment("e000002")!;
    await archive.commitCandidate(XSS_ID, code, `probe ${XSS_PROBES[0]}`, parent.commit);
    await archive.writeText(XSS_ID, "motivation", `motivation ${XSS_PROBES.join(" ")}`);
    await archive.writeText(XSS_ID, "analysis", `analysis ${XSS_PROBES.join(" ")}`);
    await archive.writeText(XSS_ID, "experience", `experience ${XSS_PROBES[3]}`);
    await archive.addNote({ experimentId: XSS_ID, text: `note ${XSS_PROBES[4]}` });
  } finally {
    await archive.close();
  }
  appendSteering(dir, { action: "note", experimentId: XSS_ID, campaign: null, text: `steer ${XSS_PROBES[0]}`, who: `<b>${XSS_PROBES[1]}</b>`, why: XSS_PROBES[5]! });
}
