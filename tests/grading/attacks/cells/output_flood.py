"""100 MB of output through print."""
chunk = "x" * 999_999
for _ in range(100):
    print(chunk)
