/**
 * The one convention for errors with a code: a rule's fastest-validator `messages` say
 * `"CODE: text"`. A failure of such a rule is answered as `new ApiError(400, CODE, text)`
 * (lib/validation/validator.ts); a rule whose messages carry no code keeps Moleculer's
 * standard ValidationError. Two additions to fastest-validator's messages:
 * - `"*"`: the message of every failure the rule does not name itself;
 * - custom checks (`custom`) report failures of their own types, named in `messages` too (or
 *   covered by `"*"` when registered in CHECK_MESSAGES, lib/validation/rules.ts).
 * Messages may use fastest-validator's {field}, {actual} and {expected}; never `"` or `\`.
 *
 * And two to its schemas:
 * - `blankIsMissing: true` on a rule: an empty or blank string counts as not given (required:
 *   the `required` failure; optional: the param is left out), as a blank query value is;
 * - `$$order: [CODE, ...]` on a params schema: these codes answer before any other failure,
 *   in this order (where a spec's order of checks is not the order of its fields); every
 *   other failure comes after them, in schema order.
 */

/** `"CODE: text"`: what a rule's messages hold to answer with CODE. */
export const coded = (code: string, text: string) => `${code}: ${text}`;

const CODED = /^([A-Z][A-Z0-9_]*): ([\s\S]*)$/;

/** The code and text of a coded message, or null for a plain one. */
export function decode(message: unknown): { code: string; message: string } | null {
	const m = typeof message === "string" ? CODED.exec(message) : null;
	return m ? { code: m[1], message: m[2] } : null;
}

/** A rule's messages: every failure coded alike (`"*"`), with exceptions by failure type. */
export function fails(code: string, text: string, exceptions: Record<string, string> = {}): Record<string, string> {
	return { "*": coded(code, text), ...exceptions };
}
