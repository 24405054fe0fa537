"""What the targets use to act on the host they run on: ports free (preflight), HTTP probes of
its gateways, files into and out of a profile's volumes, the images on its engine and the build
that makes them. Imported by the targets and by the orchestrators in ``runtime/``; imports only
``core/``, ``engine/`` and ``errors``."""
