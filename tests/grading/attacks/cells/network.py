"""Tries to reach the outside: TCP, UDP and a name lookup. Prints what each attempt gave."""
import json
import socket

results = {}
attempts = {
    "tcp": lambda: socket.create_connection(("1.1.1.1", 80), timeout=3),
    "udp": lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("8.8.8.8", 53)),
    "dns": lambda: socket.getaddrinfo("example.com", 80),
}
for name, attempt in attempts.items():
    try:
        attempt()
        results[name] = "connected"
    except OSError as error:
        results[name] = f"{type(error).__name__}: {error}"
print(json.dumps(results))
