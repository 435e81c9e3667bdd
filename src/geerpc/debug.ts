/** GET /debug/geerpc: the services, their methods and how often each was called. */
import { Service } from './service.js';

const escape = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function debugPage(services: Iterable<Service>): string {
  const parts: string[] = ['<html>\n<body>\n<title>GeeRPC Services</title>\n'];
  for (const svc of [...services].sort((a, b) => a.name.localeCompare(b.name))) {
    parts.push(`<hr>\nService ${escape(svc.name)}\n<hr>\n<table>\n<th align=center>Method</th><th align=center>Calls</th>\n`);
    for (const m of [...svc.methods.values()].sort((a, b) => a.name.localeCompare(b.name))) {
      parts.push(`<tr>\n<td align=left font=fixed>${escape(Service.signature(m))}</td>\n<td align=center>${m.numCalls}</td>\n</tr>\n`);
    }
    parts.push('</table>\n');
  }
  parts.push('</body>\n</html>\n');
  return parts.join('');
}
