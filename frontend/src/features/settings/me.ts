/** Who is signed in (`GET /api/me`), fetched once and shared by the screens of this folder. */
import { useEffect, useState } from 'react';
import { api } from '../../api';

export interface Me {
  id: number;
  full_name: string;
  handle: string;
  email: string;
  language: string;
  permissions: string[];
  teams: { team: number; team_name: string; organisation: number; organisation_name: string; role: string }[];
}

let cached: Promise<Me> | null = null;

export function loadMe(): Promise<Me> {
  if (!cached) {
    cached = api<Me>('GET', 'me').catch((error: unknown) => {
      cached = null;
      throw error;
    });
  }
  return cached;
}

export function forgetMe(): void {
  cached = null;
}

export function useMe(): Me | null {
  const [me, setMe] = useState<Me | null>(null);
  useEffect(() => {
    let live = true;
    loadMe().then(
      (m) => live && setMe(m),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, []);
  return me;
}

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
