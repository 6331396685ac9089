export default function InboxScreen() {
  return <main className="page" />;
}
