"""Input pipelines, configs and end-to-end runs built on tfgans."""
