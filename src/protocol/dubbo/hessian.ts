/**
 * hessian.js (Hessian 2.0 serialization) and js-to-java (Java type tags on JS values), loaded through
 * createRequire with the small typed surface Ringside uses. Neither package ships type declarations.
 */
import { createRequire } from 'node:module';

/** A value tagged with its Java class, as js-to-java builds it and hessian.js writes it. */
export interface JavaValue {
  $class: string;
  $: unknown;
}

export interface HessianDecoder {
  read(withType?: boolean): unknown;
  readString(): string;
  readonly byteBuffer: { position(): number; position(at: number): void };
}

export interface HessianEncoder {
  write(value: unknown): HessianEncoder;
  writeString(value: string): HessianEncoder;
  writeInt(value: number): HessianEncoder;
  writeNull(): HessianEncoder;
  get(): Buffer;
  reset(): void;
}

interface HessianModule {
  DecoderV2: new (buf: Buffer) => HessianDecoder;
  EncoderV2: new (opts?: { size?: number }) => HessianEncoder;
}

interface JsToJava {
  (className: string, value: unknown): JavaValue;
  array(className: string, values: unknown[]): JavaValue;
}

// Loaded on first use: every worker imports the dubbo codec's modules (the extension catalogue),
// but only one with a dubbo listener, cluster or channel should pay for hessian.js.
const require = createRequire(import.meta.url);
let hessianModule: HessianModule | undefined;
let jsToJava: JsToJava | undefined;
const hessian = (): HessianModule => (hessianModule ??= require('hessian.js') as HessianModule);
const javaTags = (): JsToJava => (jsToJava ??= require('js-to-java') as JsToJava);

/** js-to-java's tagger: `java(className, value)` and `java.array(className, values)`. */
export const java: JsToJava = Object.assign((className: string, value: unknown) => javaTags()(className, value), {
  array: (className: string, values: unknown[]) => javaTags().array(className, values),
});

/** A hessian2 decoder over `buf` (a view; the decoder reads it in place). */
export function hessianDecoder(buf: Buffer): HessianDecoder {
  return new (hessian().DecoderV2)(buf);
}

/** A fresh hessian2 encoder; its `get()` copies the bytes out. */
export function hessianEncoder(): HessianEncoder {
  return new (hessian().EncoderV2)({ size: 4096 });
}
