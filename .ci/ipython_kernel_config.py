"""IPython kernel configuration of the book's environment (installed into .venv/etc/ipython by `make venv`).

The kernels that papermill, the tests and the book's build start listen on 127.0.0.1 only, with an
HMAC key in a connection file only this user can read; ipykernel's notice that such a kernel
"is running over TCP without encryption" would open every run's output, so it is dropped here.
Every other message of the kernel stays.
"""

import logging


class _DropPlainTcpNotice(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "running over TCP without encryption" not in record.getMessage()


logging.getLogger("IPKernelApp").addFilter(_DropPlainTcpNotice())
