/**
 * Config errors and JSON paths. Every problem Ringside finds in a config names the place it sits in
 * the file as a JSON path (`servers[0].listeners[1].address`), so a user can jump to it without
 * reading a stack trace; the CLI prints the message and exits with code 2.
 */

import type { ConfigIssue } from '../types/extension.js';

export type { ConfigIssue };

export class ConfigError extends Error {
  readonly issues: readonly ConfigIssue[];
  /** File name, or a label such as "embedded default config". */
  readonly source: string;

  constructor(source: string, issues: ConfigIssue[]) {
    super(`invalid config (${source}):\n${issues.map((i) => `  ${formatIssue(i)}`).join('\n')}`);
    this.name = 'ConfigError';
    this.source = source;
    this.issues = issues;
  }
}

export function formatIssue(issue: ConfigIssue): string {
  return `${issue.path === '' ? '(root)' : issue.path}: ${issue.message}`;
}

export type PathSegment = string | number;

const identifier = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/** Renders path segments the way users read them: keys joined by dots, indices in brackets. */
export function formatPath(segments: readonly PathSegment[], base = ''): string {
  let out = base;
  for (const seg of segments) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (identifier.test(seg)) out += out === '' ? seg : `.${seg}`;
    // Record keys such as a hello component named "quick-start.v2" keep their exact spelling.
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** Appends one key or index to an already formatted path. */
export function childPath(base: string, ...segments: PathSegment[]): string {
  return formatPath(segments, base);
}
