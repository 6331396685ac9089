/** People's names by id, for "acknowledged by" lines; the signed-in person comes from the session. */
import { api } from '../../api';

export { useMe } from '../auth/session';

const names = new Map<number, Promise<string | null>>();

/** A person's name by id (cached; null when they cannot be seen). */
export function userName(id: number): Promise<string | null> {
  let p = names.get(id);
  if (!p) {
    p = api<{ full_name: string }>('GET', `users/${id}`).then(
      (u) => u.full_name,
      () => null,
    );
    names.set(id, p);
  }
  return p;
}
