/**
 * Compiles the scan kernel (scan.wat, hand-written WebAssembly text) into scan-wasm.ts, the
 * bytes the embedded vector index loads at run time. The compiler is wabt from npm (a
 * devDependency: nothing of it is needed at run time). Run after editing scan.wat:
 *
 *   npx tsx lib/store/vector-kernel/build.ts
 *
 * test/unit/store/vector-kernel.test.ts compiles scan.wat again and fails when scan-wasm.ts is
 * not what this script writes.
 */
import fs from "node:fs";
import path from "node:path";
import wabt from "wabt";

export const WAT_FILE = path.join(__dirname, "scan.wat");
export const OUT_FILE = path.join(__dirname, "scan-wasm.ts");

/** scan.wat as WebAssembly bytes (SIMD on, no debug names, so the output is reproducible). */
export async function compileScanKernel(source = fs.readFileSync(WAT_FILE, "utf8")): Promise<Uint8Array> {
	const w = await wabt();
	const mod = w.parseWat("scan.wat", source, { simd: true });
	try {
		mod.validate();
		return Uint8Array.from(mod.toBinary({ write_debug_names: false, canonicalize_lebs: true }).buffer);
	} finally {
		mod.destroy();
	}
}

/** The text of scan-wasm.ts for these bytes. */
export function moduleSource(bytes: Uint8Array): string {
	const b64 = Buffer.from(bytes).toString("base64");
	const lines = b64.match(/.{1,96}/g) ?? [];
	return [
		"// Generated from scan.wat by lib/store/vector-kernel/build.ts (wabt from npm): do not edit.",
		`/** ${bytes.length} bytes of WebAssembly: the exports scan and scanList, and memory. */`,
		"export const SCAN_WASM_BASE64 =",
		lines.map(l => `\t"${l}"`).join(" +\n") + ";",
		""
	].join("\n");
}

async function main() {
	const bytes = await compileScanKernel();
	fs.writeFileSync(OUT_FILE, moduleSource(bytes));
	console.log(`${path.relative(process.cwd(), OUT_FILE)}: ${bytes.length} bytes`);
}

if (require.main === module) void main();
