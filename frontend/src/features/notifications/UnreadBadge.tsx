import { defineMessages, useT } from '../../i18n';
import { useUnreadNotifications } from './unread';

// Its own tiny table: the header is in the first bundle, the centre's strings are not.
const messages = defineMessages({
  en: { unreadCount: '{count} unread' },
  fr: { unreadCount: '{count} non lue(s)' },
  es: { unreadCount: '{count} sin leer' },
});

/** The unread notification count for the header's Notifications link (hidden at zero). */
export default function UnreadBadge() {
  const t = useT(messages);
  const count = useUnreadNotifications();
  return (
    <span className="badge alert" data-testid="notifications-unread-badge" hidden={count === 0}>
      <span aria-hidden="true">{count > 99 ? '99+' : count}</span>
      <span className="visually-hidden">{t('unreadCount', { count })}</span>
    </span>
  );
}
