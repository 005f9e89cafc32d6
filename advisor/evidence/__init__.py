"""Readers for evidence from the scanned server itself: who listens, and how it is configured.

One module per input, each a pure function from untrusted text to frozen dataclasses plus
warnings (never an exception on bad input):

* :mod:`.listeners`: ``ss`` / ``netstat`` / ``lsof`` -> :class:`~.listeners.ListenerTable`
* :mod:`.processes`: process name -> software and role
* :mod:`.postfix`: ``postconf -n`` / ``-M`` / ``mail_version`` -> effective settings per port
* :mod:`.dovecot`: ``doveconf -n`` -> version, settings, listeners
* :mod:`.nginx`: ``nginx -T`` -> server blocks with listen and ``ssl_*`` directives
* :mod:`.distros`: package versions per distribution release, and a release guesser
"""
