"""An echo bot written against DingTalk's official Python Stream SDK (PyPI dingtalk-stream).

The simulator test runs it unchanged with DINGTALK_OPENAPI_ENDPOINT pointing at the simulator;
it answers every message with "echo: <text>" through reply_text (the sessionWebhook).
"""
import logging
import os

import dingtalk_stream
from dingtalk_stream import AckMessage


class Echo(dingtalk_stream.ChatbotHandler):
    async def process(self, callback):
        incoming = dingtalk_stream.ChatbotMessage.from_dict(callback.data)
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
