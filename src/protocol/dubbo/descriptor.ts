/**
 * Dubbo's parameter descriptor: the JVM method descriptor of the argument list (`ILjava/lang/String;`
 * for `(int, String)`). The proxy counts arguments from it to skip them; the runtime channel builds it
 * from the caller's `argTypes` or infers it from JSON values, and tags each argument with its Java type
 * (js-to-java) so hessian2 writes an int as an int and a long as a long.
 */
import { java, type JavaValue } from './hessian.js';

const PRIMITIVES: Record<string, string> = {
  void: 'V',
  boolean: 'Z',
  byte: 'B',
  char: 'C',
  double: 'D',
  float: 'F',
  int: 'I',
  long: 'J',
  short: 'S',
};

/** How many arguments a descriptor lists; -1 when it is not a descriptor. */
export function countArguments(desc: string): number {
  let n = 0;
  for (let i = 0; i < desc.length; i++) {
    let c = desc.charCodeAt(i);
    while (c === 0x5b /* [ */) {
      i++;
      if (i >= desc.length) return -1;
      c = desc.charCodeAt(i);
    }
    if (c === 0x4c /* L */) {
      const end = desc.indexOf(';', i + 1);
      if (end < 0 || end === i + 1) return -1;
      i = end;
    } else if ('VZBCDFIJS'.indexOf(desc[i]!) < 0) {
      return -1;
    }
    n++;
  }
  return n;
}

/** `int` → `I`, `java.lang.String` → `Ljava/lang/String;`, `int[]` or `[I` → `[I`. */
export function descriptorOf(typeName: string): string {
  let name = typeName.trim();
  let prefix = '';
  while (name.endsWith('[]')) {
    prefix += '[';
    name = name.slice(0, -2);
  }
  if (name.startsWith('[')) return prefix + name.replace(/\./g, '/');
  const primitive = PRIMITIVES[name];
  if (primitive !== undefined) return prefix + primitive;
  if (!/^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/.test(name)) throw new Error(`"${typeName}" is not a Java type name`);
  return `${prefix}L${name.replace(/\./g, '/')};`;
}

/** The Java type Ringside picks for a JSON value when the caller names none (dubbo-js' choices). */
export function inferJavaType(value: unknown): string {
  switch (typeof value) {
    case 'boolean':
      return 'boolean';
    case 'string':
      return 'java.lang.String';
    case 'number':
      if (Number.isInteger(value)) return (value as number) >= -0x80000000 && (value as number) <= 0x7fffffff ? 'int' : 'long';
      return 'double';
    default:
      break;
  }
  if (value === null || value === undefined) return 'java.lang.Object';
  if (Array.isArray(value)) return 'java.util.List';
  return 'java.util.Map';
}

const WRAPPERS: Record<string, string> = {
  boolean: 'boolean',
  'java.lang.Boolean': 'java.lang.Boolean',
  int: 'int',
  'java.lang.Integer': 'java.lang.Integer',
  short: 'short',
  'java.lang.Short': 'java.lang.Short',
  byte: 'byte',
  'java.lang.Byte': 'java.lang.Byte',
  long: 'long',
  'java.lang.Long': 'java.lang.Long',
  double: 'double',
  'java.lang.Double': 'java.lang.Double',
  float: 'float',
  'java.lang.Float': 'java.lang.Float',
  char: 'char',
  'java.lang.Character': 'java.lang.Character',
  'java.lang.String': 'java.lang.String',
};

/**
 * The argument as hessian2 should write it for `typeName`: primitives and their boxes tagged so the
 * number encodes as that type, maps, lists and Object left to hessian's own mapping, any other class
 * tagged with its name (hessian writes it as an object of that class with the JSON object's fields).
 */
export function toJavaArgument(typeName: string, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  const wrapper = WRAPPERS[typeName];
  if (wrapper !== undefined) return java(wrapper, value);
  switch (typeName) {
    case 'java.lang.Object':
    case 'java.util.Map':
    case 'java.util.HashMap':
    case 'java.util.List':
    case 'java.util.ArrayList':
    case 'java.util.Collection':
      return value;
    default:
      break;
  }
  if (typeName.endsWith('[]') && Array.isArray(value)) {
    const item = typeName.slice(0, -2);
    return java.array(item, value);
  }
  return java(typeName, value) satisfies JavaValue;
}
