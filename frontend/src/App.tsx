/**
 * The app: sign-in gate, shell, and the route screens.
 *
 * Screens other than sign-in and the inbox are lazy chunks. Screens owned by other features
 * are found by file name (import.meta.glob), so a missing one shows a plain notice instead of
 * breaking the build. Contract (default export, props):
 *   features/media/CaptureScreen.tsx        ({caseId: number; siteId: number | null})
 *   features/media/ReviewScreen.tsx         ({measurementId: number})
 *   features/media/ChartScreen.tsx          ({siteId: number})
 *   features/notifications/NotificationsScreen.tsx  ()
 *   features/settings/SettingsScreen.tsx    ()
 *   features/patient/PatientPage.tsx        ({token: string})  (no account, no shell)
 * Inside the shell a screen gets the signed-in person from `useMe()` (features/auth/session).
 */
import { Component, lazy, Suspense, useEffect, type ComponentType, type ReactNode } from 'react';
import { defineMessages, useT } from './i18n';
import { navigate, useRoute } from './router';
import { onSignOut, useSession } from './features/auth/session';
import LoginScreen, { safeNext } from './features/auth/LoginScreen';
import InboxScreen from './features/inbox/InboxScreen';
import Shell from './features/inbox/Shell';
import { addSentMessage, startStore, stopStore } from './store';
import { clearOutbox, startOutbox } from './outbox';

onSignOut(() => {
  stopStore();
  return clearOutbox();
});

type Loader<P> = () => Promise<{ default: ComponentType<P> }>;

function optional<P>(modules: Record<string, Loader<P>>): ComponentType<P> | null {
  const loader = Object.values(modules)[0];
  return loader ? (lazy(loader) as unknown as ComponentType<P>) : null;
}

const RoomScreen = lazy(() => import('./features/room/RoomScreen'));
const CaseScreen = lazy(() => import('./features/room/CaseScreen'));
const CaptureScreen = optional(
  import.meta.glob<{ default: ComponentType<{ caseId: number; siteId: number | null }> }>('./features/media/CaptureScreen.tsx'),
);
const ReviewScreen = optional(
  import.meta.glob<{ default: ComponentType<{ measurementId: number }> }>('./features/media/ReviewScreen.tsx'),
);
const ChartScreen = optional(
  import.meta.glob<{ default: ComponentType<{ siteId: number }> }>('./features/media/ChartScreen.tsx'),
);
const NotificationsScreen = optional(
  import.meta.glob<{ default: ComponentType<Record<string, never>> }>('./features/notifications/NotificationsScreen.tsx'),
);
const SettingsScreen = optional(
  import.meta.glob<{ default: ComponentType<Record<string, never>> }>('./features/settings/SettingsScreen.tsx'),
);
const PatientPage = optional(
  import.meta.glob<{ default: ComponentType<{ token: string }> }>('./features/patient/PatientPage.tsx'),
);

const messages = defineMessages({
  en: {
    loading: 'Loading…',
    notFound: 'This page does not exist.',
    backToInbox: 'Back to the inbox',
    unavailable: 'This screen is not available in this version of the app.',
    crashed: 'This screen could not be shown.',
    reload: 'Reload',
  },
  fr: {
    loading: 'Chargement…',
    notFound: "Cette page n'existe pas.",
    backToInbox: "Retour à la boîte de réception",
    unavailable: "Cet écran n'est pas disponible dans cette version de l'application.",
    crashed: "Cet écran n'a pas pu être affiché.",
    reload: 'Recharger',
  },
  es: {
    loading: 'Cargando…',
    notFound: 'Esta página no existe.',
    backToInbox: 'Volver a la bandeja de entrada',
    unavailable: 'Esta pantalla no está disponible en esta versión de la aplicación.',
    crashed: 'No se ha podido mostrar esta pantalla.',
    reload: 'Recargar',
  },
});

export function Loading() {
  const t = useT(messages);
  return (
    <p className="loading" role="status">
      {t('loading')}
    </p>
  );
}

function Notice({ text }: { text: 'notFound' | 'unavailable' | 'crashed' }) {
  const t = useT(messages);
  return (
    <div className="page">
      <p>{t(text)}</p>
      <p>
        <a href="/">{t('backToInbox')}</a>
      </p>
    </div>
  );
}

class ErrorBoundary extends Component<{ children: ReactNode; resetKey: string }, { failed: boolean }> {
  state = { failed: false };
  static getDerivedStateFromError() {
    return { failed: true };
  }
  componentDidUpdate(previous: { resetKey: string }) {
    if (previous.resetKey !== this.props.resetKey && this.state.failed) this.setState({ failed: false });
  }
  componentDidCatch(error: unknown) {
    console.error(error);
  }
  render() {
    return this.state.failed ? <Notice text="crashed" /> : this.props.children;
  }
}

function Maybe<P extends object>({ screen: Screen, props }: { screen: ComponentType<P> | null; props: P }) {
  return Screen ? <Screen {...props} /> : <Notice text="unavailable" />;
}

function Screen() {
  const route = useRoute();
  const p = route.params;
  switch (route.name) {
    case 'inbox':
      return <InboxScreen />;
    case 'room':
      return <RoomScreen roomId={Number(p.roomId)} />;
    case 'case':
      return <CaseScreen caseId={Number(p.caseId)} />;
    case 'capture': {
      const site = route.query.get('site');
      return <Maybe screen={CaptureScreen} props={{ caseId: Number(p.caseId), siteId: site ? Number(site) : null }} />;
    }
    case 'review':
      return <Maybe screen={ReviewScreen} props={{ measurementId: Number(p.measurementId) }} />;
    case 'chart':
      return <Maybe screen={ChartScreen} props={{ siteId: Number(p.siteId) }} />;
    case 'notifications':
      return <Maybe screen={NotificationsScreen} props={{}} />;
    case 'settings':
      return <Maybe screen={SettingsScreen} props={{}} />;
    default:
      return <Notice text="notFound" />;
  }
}

function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to, { replace: true }), [to]);
  return null;
}

export default function App() {
  const route = useRoute();
  const { me } = useSession();
  const meId = me?.id;

  useEffect(() => {
    if (me) {
      void startStore(me);
      void startOutbox(addSentMessage, me.id);
    } else if (me === null) {
      stopStore();
    }
    // Restart only when the person changes.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [meId]);

  if (route.name === 'patient') {
    return (
      <ErrorBoundary resetKey={route.href}>
        <Suspense fallback={<Loading />}>
          <Maybe screen={PatientPage} props={{ token: route.params.token }} />
        </Suspense>
      </ErrorBoundary>
    );
  }
  if (me === undefined) return <Loading />;
  if (route.name === 'login') {
    if (me) {
      return <Redirect to={safeNext(route.query.get('next'))} />;
    }
    return <LoginScreen />;
  }
  if (!me) return <Redirect to={'/login?next=' + encodeURIComponent(route.href)} />;
  return (
    <Shell>
      <ErrorBoundary resetKey={route.href}>
        <Suspense fallback={<Loading />}>
          <Screen />
        </Suspense>
      </ErrorBoundary>
    </Shell>
  );
}
