#!/usr/bin/env python3
"""A delaying TCP proxy for bench/tls_delay.sh: every chunk is forwarded
RTT/2 after it arrived, in each direction (order kept), so a request and its
answer cost one round trip of RTT ms. The TCP connect itself is not delayed
(loopback accepts at once): the figures model the hello's round trip, not
the connect's. usage: delay_proxy.py LISTEN_PORT UPSTREAM_PORT RTT_MS"""
import asyncio, sys

listen, upstream, rtt = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]) / 1000.0

async def pump(reader, writer):
    loop = asyncio.get_running_loop()
    q = asyncio.Queue()
    async def sender():
        while True:
            due, data = await q.get()
            d = due - loop.time()
            if d > 0:
                await asyncio.sleep(d)
            if data is None:
                try:
                    writer.close()
                except Exception:
                    pass
                return
            try:
                writer.write(data)
                await writer.drain()
            except Exception:
                return
    t = asyncio.create_task(sender())
    try:
        while True:
            data = await reader.read(65536)
            await q.put((loop.time() + rtt / 2, data if data else None))
            if not data:
                break
    except Exception:
        await q.put((loop.time() + rtt / 2, None))
    await t

async def handle(cr, cw):
    try:
        ur, uw = await asyncio.open_connection("127.0.0.1", upstream)
    except Exception:
        cw.close()
        return
    await asyncio.gather(pump(cr, uw), pump(ur, cw))

async def main():
    srv = await asyncio.start_server(handle, "127.0.0.1", listen, backlog=256)
    print("ready", flush=True)
    async with srv:
        await srv.serve_forever()

asyncio.run(main())
