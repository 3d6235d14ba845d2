/** JSON.parse that returns undefined instead of throwing: the caller validates with zod anyway. */
export function tryParseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
