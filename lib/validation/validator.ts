/**
 * The params validator of every broker (moleculer.config.ts `validator:`): Moleculer's
 * fastest-validator, with the conventions of lib/validation/coded.ts. A failing call is
 * answered with its first failure (the `$$order` codes first, then schema order):
 * `ApiError(400, CODE, text)` when that failure's message is coded, else Moleculer's standard
 * ValidationError (type VALIDATION_ERROR, data: every failure as {type, field, message,
 * actual, ...}).
 */
import { Errors, Validators, type ServiceBroker } from "moleculer";
import { ApiError } from "../errors";
import { decode } from "./coded";
import { CHECK_MESSAGES } from "./rules";

/** One failure as fastest-validator reports it. */
export interface Failure {
	type: string;
	field?: string;
	message?: string;
	actual?: unknown;
	expected?: unknown;
	[k: string]: unknown;
}

type Schema = Record<string, unknown>;
type Check = ((params: unknown, opts?: unknown) => true | Failure[] | Promise<true | Failure[]>) & { async?: boolean };

/** fastest-validator's own surface used here (not in its Moleculer typings). */
interface FastestValidatorCore {
	messages: Record<string, string>;
	rules: Record<string, RuleFunction>;
	add(type: string, fn: RuleFunction): void;
	makeError(opts: { type: string; actual?: string; messages: Record<string, string> }): string;
}
interface CompiledRule {
	schema: Schema & { optional?: boolean; blankIsMissing?: boolean; default?: unknown };
	messages: Record<string, string>;
}
type RuleFunction = (this: FastestValidatorCore, rule: CompiledRule, path: string, context: unknown) => { sanitized?: boolean; source: string };

/** The error a set of failures is answered with. */
export function validationError(failures: Failure[], order: readonly string[] = [], info: Record<string, unknown> = {}): Error {
	const rank = (f: Failure) => {
		const c = decode(f.message);
		const i = c ? order.indexOf(c.code) : -1;
		return i === -1 ? order.length : i;
	};
	let first = 0;
	for (let i = 1; i < failures.length; i++) if (rank(failures[i]) < rank(failures[first])) first = i;
	const coded = decode(failures[first]?.message);
	if (coded) return new ApiError(400, coded.code, coded.message);
	return new Errors.ValidationError(
		"Parameters validation error!",
		"VALIDATION_ERROR",
		failures.map(f => ({ ...f, message: decode(f.message)?.message ?? f.message, ...info }))
	);
}

const orderOf = (schema: Schema): string[] => (Array.isArray(schema.$$order) ? (schema.$$order as string[]) : []);

export class ParamsValidator extends Validators.Fastest {
	private readonly fv: FastestValidatorCore;

	constructor(opts?: ConstructorParameters<typeof Validators.Fastest>[0]) {
		super(opts);
		this.fv = (this as unknown as { validator: FastestValidatorCore }).validator;
		for (const [type, message] of Object.entries(CHECK_MESSAGES)) this.fv.messages[type] ??= message;
		// blankIsMissing: checked before every rule type's own checks.
		for (const [type, fn] of Object.entries(this.fv.rules)) this.fv.add(type, blankAware(fn));
	}

	/** fastest-validator's checker (true or the failures) of a params schema with the conventions applied. */
	override compile(schema: Schema) {
		return super.compile(this.prepare(cloneRules(schema) as Schema));
	}

	/** Throws the answer to the first failure (see validationError). */
	override validate(params: Schema, schema: Schema): boolean {
		const res = (this.compile(schema) as Check)(params);
		if (res === true) return true;
		if (Array.isArray(res)) throw validationError(res, orderOf(schema));
		throw new Error("validate() cannot run an async schema; call it through the broker");
	}

	/** Moleculer's validator middleware, answering with validationError. */
	override middleware(_broker?: ServiceBroker) {
		const paramName = this.opts.paramName ?? "params";
		const wrap =
			(kind: "action" | "event") =>
			(handler: (ctx: any) => unknown, def: Schema) => {
				const schema = def[paramName];
				if (!schema || typeof schema !== "object") return handler;
				const check = this.compile(schema as Schema) as Check;
				const order = orderOf(schema as Schema);
				return function validateContextParams(ctx: any) {
					const answer = (res: true | Failure[]) =>
						res === true ? handler(ctx) : Promise.reject(validationError(res, order, { nodeID: ctx.nodeID, [kind]: ctx[kind]?.name }));
					const res = check(ctx.params != null ? ctx.params : {}, { meta: ctx });
					return check.async ? (res as Promise<true | Failure[]>).then(answer) : answer(res as true | Failure[]);
				};
			};
		return { name: "Validator", localAction: wrap("action"), localEvent: wrap("event") };
	}

	/** Expand `"*"` in every rule's messages (fastest-validator knows only its own types). */
	private prepare(schema: Schema): Schema {
		const all = Object.keys(this.fv.messages);
		const visit = (rule: unknown): void => {
			if (Array.isArray(rule)) return rule.forEach(visit);
			if (!rule || typeof rule !== "object") return;
			const r = rule as Schema & { messages?: Record<string, string> };
			if (r.messages) {
				for (const m of Object.values(r.messages))
					if (/["\\\n]/.test(m)) throw new Error(`Validation message must not contain quotes, backslashes or newlines: ${m}`);
				const any = r.messages["*"];
				if (any !== undefined) {
					r.messages = { ...Object.fromEntries(all.map(type => [type, any])), ...r.messages };
					delete r.messages["*"];
				}
			}
			for (const key of ["props", "properties"]) if (r[key] && typeof r[key] === "object") Object.values(r[key] as Schema).forEach(visit);
			for (const key of ["items", "rules"]) if (r[key]) visit(r[key]);
		};
		for (const [key, rule] of Object.entries(schema)) if (!key.startsWith("$$")) visit(rule);
		return schema;
	}
}

/** A copy of plain objects and arrays; functions, RegExps and the like are kept as they are. */
function cloneRules(v: unknown): unknown {
	if (Array.isArray(v)) return v.map(cloneRules);
	if (v && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, cloneRules(x)]));
	return v;
}

/** A rule type that first treats a blank string as no value when the rule says `blankIsMissing`. */
function blankAware(fn: RuleFunction): RuleFunction {
	return function (this: FastestValidatorCore, rule, path, context) {
		const res = fn.call(this, rule, path, context);
		if (rule.schema.blankIsMissing !== true) return res;
		const missing =
			rule.schema.optional === true
				? `return ${rule.schema.default !== undefined && typeof rule.schema.default !== "function" ? JSON.stringify(rule.schema.default) : "undefined"};`
				: `${this.makeError({ type: "required", actual: "value", messages: rule.messages })} return value;`;
		return { ...res, sanitized: true, source: `if (typeof value === "string" && value.trim() === "") { ${missing} }\n${res.source}` };
	};
}

const shared = new ParamsValidator();

/**
 * A check of a params schema outside a call (data from elsewhere held to the same rules):
 * throws what the broker would answer; sanitises `params` in place as the broker does.
 */
export function checker(schema: Schema): (params: Schema) => void {
	const check = shared.compile(schema) as Check;
	const order = orderOf(schema);
	return params => {
		const res = check(params);
		if (res !== true) throw validationError(res as Failure[], order);
	};
}
