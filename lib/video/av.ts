/**
 * node-av for lib/video. node-av is ESM-only: Node 22 loads it with require(esm), and so
 * does tsx, but Jest's module registry cannot; under Jest the test environment
 * (test/support/environment.js) loads it with Node's own require and hands it over.
 */
import type * as NodeAv from "node-av";

export type { Frame, Packet, Demuxer, Decoder } from "node-av";

export const av: typeof NodeAv = (globalThis as { __nodeAv?: typeof NodeAv }).__nodeAv ?? require("node-av");
