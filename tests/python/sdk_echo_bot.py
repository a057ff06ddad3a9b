"""An echo bot written against DingTalk's official Python Stream SDK (PyPI dingtalk-stream).

The simulator test runs it unchanged with DINGTALK_OPENAPI_ENDPOINT pointing at the simulator;
it answers every message with "echo: <text>" through reply_text (the sessionWebhook), and a
picture with its size and SHA-256, fetched through the SDK's own get_image_download_url
(messageFiles/download) and a plain GET of the URL it returns.
"""
import hashlib
import logging
import os

import requests

import dingtalk_stream
from dingtalk_stream import AckMessage


class Echo(dingtalk_stream.ChatbotHandler):
    async def process(self, callback):
        incoming = dingtalk_stream.ChatbotMessage.from_dict(callback.data)
        images = incoming.get_image_list() if incoming.message_type == "picture" else None
        if images:
            url = self.get_image_download_url(images[0])
            data = requests.get(url).content
            self.reply_text("image: %d bytes sha256 %s" % (len(data), hashlib.sha256(data).hexdigest()), incoming)
        else:
            self.reply_text("echo: " + incoming.text.content.strip(), incoming)
        return AckMessage.STATUS_OK, "OK"


def main():
    logging.basicConfig(level=logging.INFO)
    credential = dingtalk_stream.Credential(os.environ["CLIENT_ID"], os.environ["CLIENT_SECRET"])
    client = dingtalk_stream.DingTalkStreamClient(credential)
    client.register_callback_handler(dingtalk_stream.chatbot.ChatbotMessage.TOPIC, Echo())
    client.start_forever()


if __name__ == "__main__":
    main()
