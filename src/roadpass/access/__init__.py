"""Parties, people, machine clients and what each may see and do (plain typed Python, no web, no ORM).

* :mod:`.model` — parties and their roles, users, API keys, sessions, shares, the calling principal;
* :mod:`.credentials` — password hashing (argon2id), API keys and session tokens (stored only as hashes),
  CSRF tokens;
* :mod:`.ownership` — which GS1 keys and sites a party owns (its GS1 Company Prefix);
* :mod:`.policy` — the one rule table (operation × role) and the decisions built from it;
* :mod:`.ports` — what the services need from persistence (:class:`~.ports.AccessRecords`) and from trace;
* :mod:`.service` — who is calling (keys, sessions), sign-in, denials, the home page's figures
  (:mod:`.overview`);
* :mod:`.admin` — administration of parties, users, keys, shares and mandates;
* :mod:`.demo` — the development database's demo sign-ins.
"""
