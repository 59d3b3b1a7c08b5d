/**
 * Writing ids into `.env.sip` while keeping everything else in it: other variables, comments,
 * blank lines and their order.
 */

/**
 * Sets `KEY=value` for each entry of `values` in env-file text. An existing `KEY=` line is
 * replaced in place; otherwise a commented-out `# KEY=` line is replaced; otherwise the line is
 * appended. Every other line is kept as it was.
 */
export function upsertEnvText(text: string, values: Readonly<Record<string, string>>): string {
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  for (const [key, value] of Object.entries(values)) {
    const line = `${key}=${value}`;
    const set = lines.findIndex((l) => new RegExp(`^\\s*(export\\s+)?${key}\\s*=`).test(l));
    if (set >= 0) {
      lines[set] = line;
      continue;
    }
    const commented = lines.findIndex((l) => new RegExp(`^\\s*#\\s*${key}\\s*=`).test(l));
    if (commented >= 0) lines[commented] = line;
    else lines.push(line);
  }
  return `${lines.join('\n')}\n`;
}
