import pytest
from channels.testing import HttpCommunicator

from goatedvips.asgi import application


@pytest.mark.asyncio
async def test_the_asgi_stack_serves_http():
    communicator = HttpCommunicator(application, "GET", "/healthz", headers=[(b"host", b"localhost")])
    response = await communicator.get_response()
    assert response["status"] == 200
    assert response["body"] == b'{"status": "ok"}'
