/**
 * An alert as the case's alert list has it (`GET /api/cases/{id}/alerts`): the room message
 * lacks the acknowledgement's note, so the card reads it from there (one request per case).
 */
import { api } from '../../api';
import type { AlertData } from './describe';

let casesByRoom: Promise<Map<number, number>> | null = null;

/** The case whose room this is (from my cases list, fetched once). */
export function caseIdForRoom(room: number): Promise<number | null> {
  if (!casesByRoom) {
    casesByRoom = api<{ id: number; room: number }[] | { results: { id: number; room: number }[] }>('GET', 'cases').then(
      (r) => new Map((Array.isArray(r) ? r : r.results).map((c) => [c.room, c.id])),
      () => {
        casesByRoom = null;
        return new Map<number, number>();
      },
    );
  }
  return casesByRoom.then((m) => m.get(room) ?? null);
}

const byCase = new Map<number, Promise<AlertData[]>>();

function load(caseId: number): Promise<AlertData[]> {
  const p = api<AlertData[]>('GET', `cases/${caseId}/alerts`).catch(() => {
    byCase.delete(caseId);
    return [] as AlertData[];
  });
  byCase.set(caseId, p);
  return p;
}

/** One alert of a case; asks again when the cached list is older than what the room shows. */
export async function caseAlert(caseId: number, alertId: number, wantAcknowledged: boolean): Promise<AlertData | null> {
  let list = await (byCase.get(caseId) ?? load(caseId));
  let found = list.find((a) => a.id === alertId) ?? null;
  if ((!found || (wantAcknowledged && found.status !== 'acknowledged')) && byCase.get(caseId)) {
    list = await load(caseId);
    found = list.find((a) => a.id === alertId) ?? null;
  }
  return found;
}

/** Forget what was fetched (tests). */
export function resetCaseAlerts(): void {
  casesByRoom = null;
  byCase.clear();
}
