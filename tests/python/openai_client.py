"""Calls the offline model with the unmodified `openai` package and prints what it got as JSON.

Run by tests/openai_client.rs with OPENAI_BASE_URL and OPENAI_API_KEY set; the test scripts a
429 before the last call.
"""

import json
import os

import openai

client = openai.OpenAI(
    base_url=os.environ["OPENAI_BASE_URL"], api_key=os.environ["OPENAI_API_KEY"], max_retries=0
)
messages = [
    {"role": "system", "content": "You are Probe, a test assistant."},
    {"role": "user", "content": "hello from python"},
]
out = {}

plain = client.chat.completions.create(model="offline-m", messages=messages)
out["plain"] = plain.choices[0].message.content
out["plain_finish"] = plain.choices[0].finish_reason
out["usage"] = plain.usage.total_tokens

parts = []
usage = None
for chunk in client.chat.completions.create(
    model="offline-m", messages=messages, stream=True, stream_options={"include_usage": True}
):
    if chunk.usage is not None:
        usage = chunk.usage.total_tokens
    for choice in chunk.choices:
        if choice.delta.content:
            parts.append(choice.delta.content)
out["streamed"] = "".join(parts)
out["streamed_usage"] = usage

tools = [
    {
        "type": "function",
        "function": {
            "name": "current_time",
            "description": "now",
            "parameters": {"type": "object", "properties": {"timezone": {"type": "string"}}},
        },
    }
]
ask_tool = [{"role": "user", "content": '/tool current_time {"timezone": "UTC"}'}]
called = client.chat.completions.create(model="offline-m", messages=ask_tool, tools=tools)
call = called.choices[0].message.tool_calls[0]
out["tool"] = [call.function.name, json.loads(call.function.arguments), called.choices[0].finish_reason]

name, args = "", ""
for chunk in client.chat.completions.create(
    model="offline-m", messages=ask_tool, tools=tools, stream=True
):
    for choice in chunk.choices:
        for tc in choice.delta.tool_calls or []:
            name += tc.function.name or ""
            args += tc.function.arguments or ""
out["streamed_tool"] = [name, json.loads(args)]

try:
    openai.OpenAI(
        base_url=os.environ["OPENAI_BASE_URL"], api_key="wrong", max_retries=0
    ).chat.completions.create(model="offline-m", messages=messages)
    out["bad_key"] = "accepted"
except openai.AuthenticationError as e:
    out["bad_key"] = e.status_code

try:
    client.chat.completions.create(model="offline-m", messages=messages)
    out["scripted_429"] = "answered"
except openai.RateLimitError as e:
    out["scripted_429"] = [e.status_code, e.response.headers.get("retry-after")]

print(json.dumps(out))
