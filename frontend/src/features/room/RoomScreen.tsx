import { useEffect } from 'react';
import { api } from '../../api';
import { navigate } from '../../router';
import { useCasesByRoom, useRoom, type CaseSummary } from '../../store';
import RoomView from './RoomView';

export default function RoomScreen({ roomId }: { roomId: number }) {
  const room = useRoom(roomId);
  const known = useCasesByRoom()[roomId];
  const isCase = room?.kind === 'case';
  const knownId = known?.id;

  // A case's room opens with its case panel (a closed case is looked up among the closed ones).
  useEffect(() => {
    if (!isCase) return undefined;
    const go = (caseId: number) => navigate(`/cases/${caseId}${window.location.hash}`, { replace: true });
    if (knownId) {
      go(knownId);
      return undefined;
    }
    let cancelled = false;
    api<CaseSummary[] | { results: CaseSummary[] }>('GET', 'cases?status=closed')
      .then((answer) => {
        const found = (Array.isArray(answer) ? answer : answer.results).find((c) => c.room === roomId);
        if (found && !cancelled) go(found.id);
      })
      .catch(() => undefined);
    return () => {
      cancelled = true;
    };
  }, [isCase, knownId, roomId]);

  return <RoomView roomId={roomId} />;
}
