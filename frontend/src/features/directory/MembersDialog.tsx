import { useCallback, useEffect, useState } from 'react';
import { api } from '../../api';
import { describeError, useLang, useT } from '../../i18n';
import { navigate } from '../../router';
import { refreshRoom } from '../../store';
import type { Room, UserSummary } from '../../store/types';
import { Dialog, usePeopleSearch } from './Dialog';
import { useMe } from '../auth/session';
import { directoryMessages } from './messages';
import './directory.css';

type Member = { user: UserSummary; via_team: number | null; joined_at: string };

/** A room's members; in a group room, add people or leave. */
export default function MembersDialog({ room, onClose }: { room: Room; onClose: () => void }) {
  const t = useT(directoryMessages);
  const { lang } = useLang();
  const me = useMe();
  const [members, setMembers] = useState<Member[] | null>(null);
  const [adding, setAdding] = useState(false);
  const [search, setSearch] = useState('');
  const [picked, setPicked] = useState<number[]>([]);
  const [error, setError] = useState<string | null>(null);
  const group = room.kind === 'group';

  const load = useCallback(() => {
    api<Member[]>('GET', `rooms/${room.id}/members`)
      .then(setMembers)
      .catch((err: unknown) => setError(describeError(err, lang)));
  }, [room.id, lang]);
  useEffect(load, [load]);

  const found = usePeopleSearch(search, adding);
  const users = found.error ? [] : (found.users ?? []);

  const memberIds = new Set((members ?? []).map((m) => m.user.id));

  const add = async () => {
    if (picked.length === 0) return;
    setError(null);
    try {
      await api('POST', `rooms/${room.id}/members`, { users: picked });
      setPicked([]);
      setAdding(false);
      load();
      void refreshRoom(room.id).catch(() => undefined);
    } catch (err) {
      setError(describeError(err, lang));
    }
  };

  const leave = async () => {
    if (!me || !window.confirm(t('confirmLeave'))) return;
    setError(null);
    try {
      await api('DELETE', `rooms/${room.id}/members/${me.id}`);
      onClose();
      navigate('/');
    } catch (err) {
      setError(describeError(err, lang));
    }
  };

  return (
    <Dialog title={t('membersTitle')} error={error} onClose={onClose}>
      {room.teams.length > 0 && (
        <p className="muted small">
          {t('teamsLinked')}: {room.teams.map((team) => `${team.name} (${team.organisation})`).join(', ')}
        </p>
      )}
      {members === null && !error && <p className="muted">{t('loading')}</p>}
      <ul className="picker-list members-list">
        {members?.map((m) => (
          <li key={m.user.id} className="picker-row">
            <span>
              <strong>{m.user.full_name}</strong> <span className="muted">@{m.user.handle}</span>{' '}
              {m.user.id === me?.id && <span className="muted">{t('you')}</span>}
              {m.via_team !== null && <span className="muted small"> · {t('viaTeam')}</span>}
            </span>
          </li>
        ))}
      </ul>
      {group && adding && (
        <fieldset className="picker">
          <legend>{t('addPeople')}</legend>
          <label className="field">
            <span>{t('search')}</span>
            <input type="search" value={search} placeholder={t('searchPlaceholder')} onChange={(e) => setSearch(e.target.value)} autoFocus />
          </label>
          <ul className="picker-list">
            {users
              .filter((u) => !memberIds.has(u.id))
              .slice(0, 30)
              .map((u) => (
                <li key={u.id}>
                  <label className="picker-row">
                    <input
                      type="checkbox"
                      checked={picked.includes(u.id)}
                      onChange={() => setPicked((list) => (list.includes(u.id) ? list.filter((id) => id !== u.id) : [...list, u.id]))}
                    />
                    <span>
                      <strong>{u.full_name}</strong> <span className="muted">@{u.handle}</span>
                    </span>
                  </label>
                </li>
              ))}
          </ul>
        </fieldset>
      )}
      <div className="dialog-actions">
        {group && (
          <button type="button" className="danger" onClick={() => void leave()}>
            {t('leave')}
          </button>
        )}
        {group && !adding && (
          <button type="button" className="primary" onClick={() => setAdding(true)}>
            {t('addPeople')}
          </button>
        )}
        {group && adding && (
          <button type="button" className="primary" onClick={() => void add()} disabled={picked.length === 0}>
            {t('addSelected')}
          </button>
        )}
      </div>
    </Dialog>
  );
}
