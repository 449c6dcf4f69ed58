# hostile: ask for big replies (list with hashes) on many connections and never read them
import socket, struct, sys, time, threading
ep = sys.argv[1]; n = int(sys.argv[2]); dur = float(sys.argv[3])
req = b'{"v":1,"id":1,"cmd":"list","args":{"with_hash":true}}'
frame = struct.pack('<I', len(req)) + req
end = time.time() + dur
def worker():
    while time.time() < end:
        try:
            s = socket.socket(socket.AF_UNIX)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.connect(ep); s.sendall(frame)
            time.sleep(6)          # never read; the server gives up after its drain timeout
            s.close()
        except Exception:
            time.sleep(0.1)
ts = [threading.Thread(target=worker) for _ in range(n)]
[t.start() for t in ts]; [t.join() for t in ts]
