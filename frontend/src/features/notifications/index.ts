/** What other features may import from notifications (kept small: the header loads it eagerly). */
export { useUnreadNotifications, refreshUnread } from './unread';
export { default as UnreadBadge } from './UnreadBadge';
