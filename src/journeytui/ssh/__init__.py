"""`journeytui serve-ssh`: demo sessions of the app over SSH (asyncssh).

Each SSH session runs the app as its own child process in a pseudo-terminal sized
to the client's terminal, on its own copy of the store (or on the shared store with
``--shared``).  Never imported by the store, domain or importer layers.
"""

from journeytui.ssh.config import ServerConfig
from journeytui.ssh.server import DemoServer, run_server, start_server

__all__ = ["DemoServer", "ServerConfig", "run_server", "start_server"]
