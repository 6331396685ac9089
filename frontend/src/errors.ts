// Placeholder until `manage.py client_error_messages` generates this file.
export const errorMessages: Record<'en' | 'fr' | 'es', Record<string, string>> = {
  en: {
    network_error: 'The server cannot be reached. Check the connection, then try again.',
    not_authenticated: 'Sign in to continue.',
    invalid_credentials: 'The e-mail address or the password is wrong.',
    internal_error: 'Something went wrong on the server. Try again in a moment.',
  },
  fr: {
    network_error: 'Le serveur est injoignable. Vérifiez la connexion, puis réessayez.',
    not_authenticated: 'Connectez-vous pour continuer.',
    invalid_credentials: "L'adresse e-mail ou le mot de passe est incorrect.",
    internal_error: 'Une erreur est survenue sur le serveur. Réessayez dans un instant.',
  },
  es: {
    network_error: 'No se puede contactar con el servidor. Compruebe la conexión y vuelva a intentarlo.',
    not_authenticated: 'Inicie sesión para continuar.',
    invalid_credentials: 'El correo electrónico o la contraseña no son correctos.',
    internal_error: 'Algo ha fallado en el servidor. Vuelva a intentarlo en un momento.',
  },
};
