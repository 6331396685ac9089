export default function RoomScreen({ roomId }: { roomId: number }) {
  return <main className="page" data-room={roomId} />;
}
