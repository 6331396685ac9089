import { useEffect, useState, type FormEvent } from 'react';
import { api } from '../../api';
import { describeError, useLang, useT } from '../../i18n';
import { navigate } from '../../router';
import { refreshRoom } from '../../store';
import type { Room, User } from '../../store/types';
import { useMe } from '../auth/session';
import { Dialog, usePeopleSearch } from './Dialog';
import { directoryMessages } from './messages';
import './directory.css';

type Team = { id: number; name: string; organisation_name: string; member_count: number };

function orgOf(user: User): string {
  const names = [...new Set((user.teams ?? []).map((t) => t.organisation_name))];
  return names.join(', ');
}

/** Create a group room (people and teams from any organisation I may see) or open a direct conversation. */
export default function NewRoomDialog({ mode, onClose }: { mode: 'group' | 'direct'; onClose: () => void }) {
  const t = useT(directoryMessages);
  const { lang } = useLang();
  const me = useMe();
  const [name, setName] = useState('');
  const [topic, setTopic] = useState('');
  const [search, setSearch] = useState('');
  const [teams, setTeams] = useState<Team[]>([]);
  const [picked, setPicked] = useState<User[]>([]);
  const [pickedTeams, setPickedTeams] = useState<number[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const found = usePeopleSearch(search);
  const users = found.users && found.users.filter((u) => u.id !== me?.id);
  useEffect(() => {
    if (found.error) setError(describeError(found.error, lang));
  }, [found.error, lang]);

  useEffect(() => {
    if (mode !== 'group') return;
    api<Team[]>('GET', 'teams')
      .then(setTeams)
      .catch(() => setTeams([]));
  }, [mode]);

  const open = async (body: Record<string, unknown>) => {
    setBusy(true);
    setError(null);
    try {
      const room = await api<Room>('POST', 'rooms', body);
      await refreshRoom(room.id).catch(() => undefined);
      onClose();
      navigate(`/rooms/${room.id}`);
    } catch (err) {
      setError(describeError(err, lang));
      setBusy(false);
    }
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (mode === 'direct') return;
    if (!name.trim()) return setError(t('needName'));
    if (picked.length === 0 && pickedTeams.length === 0) return setError(t('needMember'));
    void open({ kind: 'group', name: name.trim(), topic: topic.trim(), members: picked.map((u) => u.id), teams: pickedTeams });
  };

  const toggle = (user: User) =>
    setPicked((list) => (list.some((u) => u.id === user.id) ? list.filter((u) => u.id !== user.id) : [...list, user]));

  const title = mode === 'group' ? t('groupTitle') : t('directTitle');

  return (
    <Dialog title={title} error={error} onClose={onClose} onSubmit={submit}>
      {mode === 'group' && (
        <>
          <label className="field">
            <span>{t('name')}</span>
            <input value={name} onChange={(e) => setName(e.target.value)} maxLength={200} required autoFocus />
          </label>
          <label className="field">
            <span>{t('topic')}</span>
            <input value={topic} onChange={(e) => setTopic(e.target.value)} maxLength={500} />
          </label>
        </>
      )}
      {mode === 'direct' && <p className="muted">{t('pickOne')}</p>}
      <label className="field">
        <span>{t('search')}</span>
        <input
          type="search"
          value={search}
          placeholder={t('searchPlaceholder')}
          onChange={(e) => setSearch(e.target.value)}
          autoFocus={mode === 'direct'}
        />
      </label>
      {mode === 'group' && picked.length > 0 && (
        <div className="chips" aria-label={t('selected')} role="group">
          {picked.map((u) => (
            <button type="button" key={u.id} className="chip" onClick={() => toggle(u)} aria-label={t('remove', { name: u.full_name })}>
              {u.full_name} ✕
            </button>
          ))}
        </div>
      )}
      <fieldset className="picker">
        <legend>{t('people')}</legend>
        {users === null && <p className="muted">{t('loading')}</p>}
        {users?.length === 0 && <p className="muted">{t('noPeople')}</p>}
        <ul className="picker-list">
          {users?.slice(0, 50).map((user) => (
            <li key={user.id}>
              {mode === 'group' ? (
                <label className="picker-row">
                  <input type="checkbox" checked={picked.some((u) => u.id === user.id)} onChange={() => toggle(user)} />
                  <span>
                    <strong>{user.full_name}</strong> <span className="muted">@{user.handle}</span>
                    <br />
                    <span className="muted small">{orgOf(user)}</span>
                  </span>
                </label>
              ) : (
                <button
                  type="button"
                  className="picker-row as-button"
                  disabled={busy}
                  onClick={() => void open({ kind: 'direct', members: [user.id] })}
                >
                  <span>
                    <strong>{user.full_name}</strong> <span className="muted">@{user.handle}</span>
                    <br />
                    <span className="muted small">{orgOf(user)}</span>
                  </span>
                </button>
              )}
            </li>
          ))}
        </ul>
      </fieldset>
      {mode === 'group' && (
        <fieldset className="picker">
          <legend>{t('teams')}</legend>
          {teams.length === 0 && <p className="muted">{t('noTeams')}</p>}
          <ul className="picker-list">
            {teams.map((team) => (
              <li key={team.id}>
                <label className="picker-row">
                  <input
                    type="checkbox"
                    checked={pickedTeams.includes(team.id)}
                    onChange={() =>
                      setPickedTeams((list) => (list.includes(team.id) ? list.filter((id) => id !== team.id) : [...list, team.id]))
                    }
                  />
                  <span>
                    <strong>{team.name}</strong>
                    <br />
                    <span className="muted small">{team.organisation_name}</span>
                  </span>
                </label>
              </li>
            ))}
          </ul>
        </fieldset>
      )}
      <div className="dialog-actions">
        <button type="button" onClick={onClose}>
          {t('cancel')}
        </button>
        {mode === 'group' && (
          <button type="submit" className="primary" disabled={busy}>
            {t('create')}
          </button>
        )}
      </div>
    </Dialog>
  );
}
