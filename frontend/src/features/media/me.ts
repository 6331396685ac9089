/** The signed-in person's permissions, from the session (`GET /api/me`). */
import { useMemo } from 'react';
import { useMe } from '../auth/session';

export function usePermissions(): Set<string> {
  const me = useMe();
  return useMemo(() => new Set(me?.permissions ?? []), [me]);
}
