import { useEffect } from 'react';
import { navigate } from '../../router';
import { useCasesByRoom, useRoom } from '../../store';
import RoomView from './RoomView';

export default function RoomScreen({ roomId }: { roomId: number }) {
  const room = useRoom(roomId);
  const caseSummary = useCasesByRoom()[roomId];
  // A case's room opens with its case panel.
  const caseId = room?.kind === 'case' ? caseSummary?.id : undefined;
  useEffect(() => {
    if (caseId) navigate(`/cases/${caseId}${window.location.hash}`, { replace: true });
  }, [caseId]);
  return <RoomView roomId={roomId} />;
}
