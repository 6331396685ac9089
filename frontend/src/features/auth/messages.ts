import { defineMessages } from '../../i18n';

export const messages = defineMessages({
  en: {
    title: 'Sign in',
    intro: 'Wound follow-up for care teams.',
    email: 'E-mail',
    password: 'Password',
    submit: 'Sign in',
    submitting: 'Signing in…',
    expired: 'Your session has ended. Sign in again to continue.',
    language: 'Language',
    signOut: 'Sign out',
  },
  fr: {
    title: 'Connexion',
    intro: 'Le suivi des plaies pour les équipes soignantes.',
    email: 'E-mail',
    password: 'Mot de passe',
    submit: 'Se connecter',
    submitting: 'Connexion…',
    expired: 'Votre session a pris fin. Reconnectez-vous pour continuer.',
    language: 'Langue',
    signOut: 'Se déconnecter',
  },
  es: {
    title: 'Iniciar sesión',
    intro: 'Seguimiento de heridas para los equipos de cuidados.',
    email: 'Correo electrónico',
    password: 'Contraseña',
    submit: 'Iniciar sesión',
    submitting: 'Iniciando sesión…',
    expired: 'Su sesión ha terminado. Vuelva a iniciar sesión para continuar.',
    language: 'Idioma',
    signOut: 'Cerrar sesión',
  },
});
