//! A small weather page on 127.0.0.1 for the demo's scheduled task to fetch, so the forecast
//! the group robot posts comes from a real HTTP page through `web_fetch`. It is served in GBK
//! with the charset only in a `<meta>` tag, as many Chinese sites still do, so the demo also
//! shows the charset handling.

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpResponse, HttpServer, web};

/// The page's forecast (what the group should see).
pub const FORECAST_ZH: &str = "北京 今天：晴，最高 6°C，最低 -3°C，北风 3 级，空气质量良。";
pub const FORECAST_EN: &str =
    "Beijing today: sunny, high 6°C, low -3°C, north wind force 3, good air quality.";

/// The running page.
pub struct WeatherPage {
    /// `http://127.0.0.1:<port>/weather/beijing`
    pub url: String,
    handle: ServerHandle,
}

fn page() -> Vec<u8> {
    let html = format!(
        "<!DOCTYPE html><html><head><meta charset=\"gbk\"><title>北京天气 Beijing weather</title></head>\
         <body><nav>首页 | 城市 | 关于</nav><article><h1>北京天气预报</h1><p>{FORECAST_ZH}</p>\
         <p>{FORECAST_EN}</p></article><footer>dingclaw demo weather service</footer></body></html>"
    );
    let (bytes, _, _) = encoding_rs::GBK.encode(&html);
    bytes.into_owned()
}

impl WeatherPage {
    pub async fn start() -> std::io::Result<WeatherPage> {
        let server = HttpServer::new(|| {
            App::new().route(
                "/weather/beijing",
                web::get()
                    .to(|| async { HttpResponse::Ok().content_type("text/html").body(page()) }),
            )
        })
        .workers(1)
        .disable_signals()
        .bind(("127.0.0.1", 0))?;
        let port = server.addrs().first().map(|a| a.port()).unwrap_or(0);
        let running = server.run();
        let handle = running.handle();
        actix_rt::spawn(running);
        Ok(WeatherPage {
            url: format!("http://127.0.0.1:{port}/weather/beijing"),
            handle,
        })
    }

    pub async fn stop(&self) {
        self.handle.stop(false).await;
    }
}
