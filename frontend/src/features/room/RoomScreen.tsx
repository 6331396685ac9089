import RoomView from './RoomView';

export default function RoomScreen({ roomId }: { roomId: number }) {
  return <RoomView roomId={roomId} />;
}
