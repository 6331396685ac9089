export default function CaseScreen({ caseId }: { caseId: number }) {
  return <main className="page" data-case={caseId} />;
}
