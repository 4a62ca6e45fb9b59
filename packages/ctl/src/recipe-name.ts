/** Where a lock or election lives: a bare name goes under the recipe's default directory, a path as given. */
export function recipeLocation(name: string): { name: string; prefix?: string } {
  if (!name.startsWith('/')) return { name };
  return { name: name.replace(/^\/+/, ''), prefix: '' };
}
