/** A field of a resource Ringside cannot take; `path` is inside the resource. */
export class XdsFieldError extends Error {
  readonly path: string;
  constructor(path: string, message: string) {
    super(`${path}: ${message}`);
    this.path = path;
  }
}
