import asyncio
import threading

from telephony.desk import DeskHub


def test_notify_on_loop_wakes_only_matching_subscribers():
    async def main():
        hub = DeskHub()
        with hub.subscribe(["demodam"]) as mine, hub.subscribe(["voorbeeldrijk"]) as other:
            hub.notify("demodam")
            assert await mine.wait(1)
            assert not await other.wait(0.05)
            assert not await mine.wait(0.05)  # the flag was cleared
        assert len(hub) == 0

    asyncio.run(main())


def test_notify_from_another_thread():
    async def main():
        hub = DeskHub()
        with hub.subscribe(["demodam"]) as sub:
            thread = threading.Thread(target=hub.notify, args=("demodam",))
            thread.start()
            assert await sub.wait(2)
            thread.join()

    asyncio.run(main())


def test_notify_without_subscribers_or_after_loop_closed():
    hub = DeskHub()
    hub.notify("demodam")  # nobody listens: nothing happens

    async def leave_one_behind():
        cm = hub.subscribe(["demodam"])
        cm.__enter__()
        return cm

    cm = asyncio.run(leave_one_behind())  # its loop is closed now
    hub.notify("demodam")  # must not raise
    cm.__exit__(None, None, None)
    assert len(hub) == 0


def test_cancelled_stream_unsubscribes():
    async def main():
        hub = DeskHub()

        async def stream():
            with hub.subscribe(["demodam"]) as sub:
                await sub.wait(60)

        task = asyncio.create_task(stream())
        await asyncio.sleep(0.01)
        assert len(hub) == 1
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert len(hub) == 0

    asyncio.run(main())


def test_close_wakes_everyone():
    async def main():
        hub = DeskHub()
        with hub.subscribe(["demodam"]) as sub:
            hub.close()
            assert await sub.wait(1)
            assert hub.closed

    asyncio.run(main())
