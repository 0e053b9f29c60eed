# The Python peer for the sort-service benchmark: the seed's asyncio server
# (chapter 14), with sorted() instead of its gnome sort, in a process pool.
#   python_server.py PORT
import asyncio
import json
import sys
from concurrent.futures import ProcessPoolExecutor

def sort_in_process(data):
    return json.dumps(sorted(json.loads(data.decode()))).encode()

POOL = None

async def sort_request(reader, writer):
    length = await reader.readexactly(8)
    data = await reader.readexactly(int.from_bytes(length, 'big'))
    result = await asyncio.get_running_loop().run_in_executor(POOL, sort_in_process, data)
    writer.write(result)
    await writer.drain()
    writer.close()

async def main(port):
    # Python 3.11 accepts only thread pools as the loop's default executor, so
    # the process pool is passed to run_in_executor explicitly.
    global POOL
    POOL = ProcessPoolExecutor()
    # Start the worker processes before serving: forked lazily on the first
    # requests, under load, they stalled the first replies here.
    await asyncio.gather(*[asyncio.get_running_loop().run_in_executor(POOL, sort_in_process, b'[]') for _ in range(8)])
    server = await asyncio.start_server(sort_request, '127.0.0.1', port)
    print('Sort Service running', flush=True)
    async with server:
        await server.serve_forever()

if __name__ == '__main__':
    asyncio.run(main(int(sys.argv[1])))
