//! The Stream WebSocket's two halves, built so that an idle socket holds no buffer.
//!
//! awc hands over the socket as an `actix_codec::Framed`, which keeps an 8 KiB read buffer and
//! an 8 KiB write buffer for the socket's whole life and reserves the read buffer again before
//! every read. A bot's socket is idle almost all the time (a ping every few seconds, an ACK per
//! message), and a heap profile of 1,000 idle bots found those two buffers at half of the heap
//! each bot held. Here a read goes into a buffer on the stack and only the bytes of a frame
//! still incomplete are kept; the write half's buffer starts empty and grows only as far as
//! ACKs and pongs need. Frames are decoded and encoded by awc's own codec either way.

use std::io;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{Context, Poll};

use actix_codec::{AsyncRead, Decoder, ReadBuf};
use awc::BoxedSocket;
use awc::error::WsProtocolError;
use awc::ws::{Codec, Frame};
use bytes::BytesMut;
use futures_util::Stream;
use tokio::io::{ReadHalf, WriteHalf};
use tokio_util::codec::FramedWrite;

/// Bytes read from the socket at a time, on the stack.
const READ_CHUNK: usize = 8 * 1024;

/// The write half: awc's codec over the socket, with a buffer that starts empty.
pub type WsWriter = FramedWrite<WriteHalf<BoxedSocket>, Codec>;

/// The read half: frames as awc's codec decodes them.
pub struct WsReader {
    io: ReadHalf<BoxedSocket>,
    codec: Codec,
    /// The start of a frame not yet complete; empty (and unallocated) between frames.
    pending: BytesMut,
    ended: bool,
}

/// Splits the socket awc opened into a reader and a writer that hold nothing while idle.
pub fn split(framed: actix_codec::Framed<BoxedSocket, Codec>) -> (WsReader, WsWriter) {
    let parts = framed.into_parts();
    // Whatever awc read past the handshake is the start of the first frames.
    let pending = if parts.read_buf.is_empty() {
        BytesMut::new()
    } else {
        BytesMut::from(&parts.read_buf[..])
    };
    let (read, write) = tokio::io::split(parts.io);
    let mut writer = FramedWrite::new(write, parts.codec.clone());
    *writer.write_buffer_mut() = BytesMut::new();
    let reader = WsReader {
        io: read,
        codec: parts.codec,
        pending,
        ended: false,
    };
    (reader, writer)
}

impl WsReader {
    /// Gives the buffer's memory back once nothing in it is waiting: the frames decoded from
    /// it own their bytes, and an idle socket then holds no allocation at all.
    fn release_if_empty(&mut self) {
        if self.pending.is_empty() && self.pending.capacity() > 0 {
            self.pending = BytesMut::new();
        }
    }
}

impl Stream for WsReader {
    type Item = Result<Frame, WsProtocolError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if this.ended {
                return Poll::Ready(None);
            }
            if !this.pending.is_empty() {
                match this.codec.decode(&mut this.pending) {
                    Ok(Some(frame)) => {
                        this.release_if_empty();
                        return Poll::Ready(Some(Ok(frame)));
                    }
                    Ok(None) => {}
                    Err(e) => {
                        this.ended = true;
                        return Poll::Ready(Some(Err(e)));
                    }
                }
            }
            let mut chunk = [MaybeUninit::<u8>::uninit(); READ_CHUNK];
            let mut buf = ReadBuf::uninit(&mut chunk);
            match Pin::new(&mut this.io).poll_read(cx, &mut buf) {
                Poll::Pending => {
                    this.release_if_empty();
                    return Poll::Pending;
                }
                Poll::Ready(Err(e)) => {
                    this.ended = true;
                    return Poll::Ready(Some(Err(WsProtocolError::Io(e))));
                }
                Poll::Ready(Ok(())) if buf.filled().is_empty() => {
                    this.ended = true;
                    if this.pending.is_empty() {
                        return Poll::Ready(None);
                    }
                    let cut = io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the socket closed inside a frame",
                    );
                    return Poll::Ready(Some(Err(WsProtocolError::Io(cut))));
                }
                Poll::Ready(Ok(())) => this.pending.extend_from_slice(buf.filled()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_codec::Encoder;
    use awc::ws::Message;
    use futures_util::StreamExt;
    use tokio::io::AsyncWriteExt;

    /// A server-side codec writes frames as DingTalk would (unmasked).
    fn server_frames(messages: Vec<Message>) -> Vec<u8> {
        let mut codec = Codec::new().max_size(1 << 20);
        let mut out = BytesMut::new();
        for m in messages {
            codec.encode(m, &mut out).expect("encode");
        }
        out.to_vec()
    }

    fn client_codec() -> Codec {
        Codec::new().client_mode().max_size(1 << 20)
    }

    fn reader_over(io: tokio::io::DuplexStream, start: &[u8]) -> WsReader {
        let io: BoxedSocket = Box::new(io);
        let mut parts = actix_codec::Framed::new(io, client_codec()).into_parts();
        parts.read_buf = BytesMut::from(start);
        split(actix_codec::Framed::from_parts(parts)).0
    }

    #[actix_rt::test]
    async fn frames_split_across_reads_come_out_whole_and_nothing_is_held_between_them() {
        let big = "x".repeat(20_000);
        let bytes = server_frames(vec![
            Message::Text("first".into()),
            Message::Text(big.clone().into()),
            Message::Ping("p".into()),
        ]);
        let (client, mut server) = tokio::io::duplex(64 * 1024);
        // Two bytes arrived with the handshake; the rest comes in uneven pieces.
        let mut reader = reader_over(client, &bytes[..2]);
        let rest = bytes[2..].to_vec();
        actix_rt::spawn(async move {
            for piece in rest.chunks(777) {
                server.write_all(piece).await.expect("write");
                actix_rt::task::yield_now().await;
            }
            server.shutdown().await.expect("shutdown");
        });
        let mut texts = Vec::new();
        while let Some(frame) = reader.next().await {
            match frame.expect("frame") {
                Frame::Text(b) => texts.push(String::from_utf8(b.to_vec()).expect("utf8")),
                Frame::Ping(p) => assert_eq!(&p[..], b"p"),
                other => panic!("unexpected {other:?}"),
            }
            assert!(
                !reader.pending.is_empty() || reader.pending.capacity() == 0,
                "an emptied buffer is given back"
            );
        }
        assert_eq!(texts, vec!["first".to_owned(), big]);
    }

    #[actix_rt::test]
    async fn a_socket_closed_inside_a_frame_is_an_error_and_a_clean_close_is_the_end() {
        let bytes = server_frames(vec![Message::Text("hello".into())]);
        let (client, mut server) = tokio::io::duplex(1024);
        let mut reader = reader_over(client, &[]);
        server.write_all(&bytes[..4]).await.expect("write");
        drop(server);
        assert!(matches!(
            reader.next().await,
            Some(Err(WsProtocolError::Io(e))) if e.kind() == io::ErrorKind::UnexpectedEof
        ));
        assert!(reader.next().await.is_none());

        let (client, server) = tokio::io::duplex(1024);
        let mut reader = reader_over(client, &[]);
        drop(server);
        assert!(reader.next().await.is_none());
    }

    #[actix_rt::test]
    async fn an_oversized_frame_ends_the_stream_with_the_codecs_error() {
        let bytes = server_frames(vec![Message::Text("y".repeat(4096).into())]);
        let (client, mut server) = tokio::io::duplex(16 * 1024);
        let io: BoxedSocket = Box::new(client);
        let framed = actix_codec::Framed::new(io, Codec::new().client_mode().max_size(1024));
        let (mut reader, _writer) = split(framed);
        server.write_all(&bytes).await.expect("write");
        assert!(matches!(
            reader.next().await,
            Some(Err(WsProtocolError::Overflow))
        ));
        assert!(reader.next().await.is_none());
    }

    #[actix_rt::test]
    async fn the_writer_starts_with_no_buffer_and_writes_masked_client_frames() {
        use futures_util::SinkExt;
        let (client, mut server) = tokio::io::duplex(1024);
        let io: BoxedSocket = Box::new(client);
        let (_reader, mut writer) = split(actix_codec::Framed::new(io, client_codec()));
        assert_eq!(writer.write_buffer().capacity(), 0);
        writer
            .send(Message::Text("ack".into()))
            .await
            .expect("send");
        let mut got = BytesMut::new();
        tokio::io::AsyncReadExt::read_buf(&mut server, &mut got)
            .await
            .expect("read");
        let mut server_codec = Codec::new();
        match server_codec.decode(&mut got).expect("decode") {
            Some(Frame::Text(b)) => assert_eq!(&b[..], b"ack"),
            other => panic!("unexpected {other:?}"),
        }
    }
}
